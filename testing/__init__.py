"""Test helpers shared by every test tree of the monorepo; never shipped in a distribution."""
