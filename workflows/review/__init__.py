"""Review station: clerks check only the fields the machine is unsure of."""
