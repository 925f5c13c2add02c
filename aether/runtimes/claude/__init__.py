"""Claude Code as an agent runtime: subagent definitions, settings and hooks, what it reports.

Facts these modules rely on were measured with the real Claude Code 2.1.328 through a real
LiteLLM proxy; docs/claude-code.md lists them with what each is used for.
"""
