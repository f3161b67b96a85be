"""Read a device config the way each of its services does, without starting them.

`selftest`, `status` and `provision` call this, so none of them passes a file
that `palaute kiosk run`, `sms run` or `sync run` would refuse: the schema check
of `load_config` first, then each role's own loader (pins, time zones, the
survey's languages, files that must exist).
"""

from __future__ import annotations

from survey.config import Config

ROLES = ("kiosk", "sms", "sync")


def roles_of(config: Config) -> list[str]:
    """The roles this config has sections for (sync: an [mqtt] section)."""
    found = [r for r in ("kiosk", "sms") if config.has(r)]
    if config.has("mqtt") or config.has("sync"):
        found.append("sync")
    return found


def check_device(config: Config) -> list[str]:
    """Load every role's settings as its service would; raises the service's error.

    Returns the roles checked.
    """
    config.identity()
    config.store_path()
    roles = roles_of(config)
    if "kiosk" in roles:
        from kiosk.config import load_kiosk_config
        from survey.definition import load_survey

        load_kiosk_config(config, load_survey(config.survey_path()))
    if "sms" in roles:
        from sms_gateway.privacy import hasher_from_config
        from sms_gateway.service import settings_from_config

        sms = config.section("sms", required=True)
        settings_from_config(sms)
        hasher_from_config(sms)
        if not sms.get_str_list("modems"):
            raise sms.error("modems", "must list at least one modem port URL")
    if "sync" in roles:
        from sync.agent import load_sync_settings
        from sync.mqtt import load_mqtt_settings

        load_sync_settings(config)
        load_mqtt_settings(config)
    return roles
