"""Language-model answers: providers behind one streaming interface, prompts that keep user
text as data, budgets, and the writer that streams an answer into Discord."""
