"""Shell integration as built-in plugins: ``roost shellinit`` (the ``claude``
wrapper) and ``roost completion`` (completion scripts, also behind the root
``--show-completion`` / ``--install-completion`` flags). ``detect`` says which
shell roost is talking to; both commands share it.
"""
