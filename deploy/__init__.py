"""Release engineering: registry, eval gate, ledger, lock, blue/green machine, backends."""
