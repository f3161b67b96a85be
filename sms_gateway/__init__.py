"""The SMS survey gateway: PDU codec, AT channel, modem driver, conversations."""
