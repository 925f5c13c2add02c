"""aether: keep an AI-agent colony alive across coding sessions.

Importing ``aether`` must stay cheap: no typer, rich, yaml or pydantic here.
"""

__version__ = "0.1.0"
