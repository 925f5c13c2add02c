"""Agent runtimes: the programs that actually run a colony's workers.

aether routes and records workers; a *runtime* starts them. Each runtime is one package here
holding everything specific to that program:

* its file formats, which import only the domain: how a caste becomes a worker definition the
  runtime reads (``claude.agents``), where its settings live and how aether's entries are merged
  into them and found again exactly (``claude.settings``, ``claude.launcher``), what it tells
  aether about a worker (``codex.hookio``, ``claude.usage``);
* its use cases, which call the neutral ones in ``aether.ops``: what install would change
  (``claude.plan``), install and uninstall (``claude.install``), ``check``, and the checks it
  adds to ``aether doctor`` (``claude.doctor``);
* its adapter (``claude.adapter``): what the neutral use cases ask of a runtime, following the
  ``Runtime`` protocol of ``adapter``.

``adapter``, ``roles``, ``marker``, ``definitions`` (which definitions a profile calls for, and
their names), ``hookio`` (the hook protocol both runtimes speak, and the neutral
``HookInput``), ``hook_stdin`` (the launchers' bounded stdin) and ``usage`` (a model's tokens
and cost, a headless run's report) are shared by every runtime; ``registry`` names the
runtimes: a neutral use case finds a runtime's adapter there by kind, without importing its
package. A further runtime (opencode) is one more package with the same parts and one more
entry in ``registry``.
"""
