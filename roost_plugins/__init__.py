"""roost_plugins: every shipped roost feature, each a plugin registered through the roost.plugins entry-point group."""
