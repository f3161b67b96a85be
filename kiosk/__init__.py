"""The lobby kiosk: session state machine, screens, audio mode, main loop."""
