from scalelint.console import entry

entry()
