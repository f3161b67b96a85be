"""The wire protocol v1 and the device's sync agent."""
