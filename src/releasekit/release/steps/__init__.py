"""The release steps by family (git, artifacts, publishing), in one ordered registry (`registry.STEPS`)."""
