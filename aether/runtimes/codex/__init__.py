"""The OpenAI Codex CLI as an agent runtime: what it reports about a headless run.

Facts these modules rely on were measured with the real Codex CLI 0.171.0 through a real
LiteLLM proxy; docs/codex.md lists them with how each was measured.
"""
