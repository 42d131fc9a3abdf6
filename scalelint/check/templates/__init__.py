"""Check templates: parameterised rule logic. Rules in ``rules/*.yaml`` bind them to codes."""
