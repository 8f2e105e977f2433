"""The Anthropic OAuth endpoints: usage probe and token refresher."""
