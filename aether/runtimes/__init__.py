"""Agent runtimes: the programs that actually run a colony's workers.

aether routes and records workers; a *runtime* starts them. Each runtime is one package here
that knows that program's files and events and nothing about aether's use cases:

* how a caste becomes a worker definition the runtime reads (``claude.agents``);
* where the runtime's settings live and how aether's entries are merged into them and found
  again exactly (``claude.settings``, ``claude.launcher``);
* what the runtime tells aether about a worker: hook inputs, transcripts, final results
  (``claude.hookio``, ``claude.usage``).

``roles`` is shared by every runtime: what each caste is for, in words shown to a model. A second
runtime (Codex's ``.codex/agents/*.toml``, opencode's agent files) is one more package beside
``claude`` with the same parts; the use cases in ``aether.ops.claude_setup`` and
``aether.ops.pre_agent``/``agent_hooks`` show what it has to provide.
"""
