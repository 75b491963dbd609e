"""LoRaWAN devices: the registry keeps each one's devEUI, codec and downlinks (jsonb), and
finds a device by its devEUI.

Revision ID: acquisition_0002
"""

from support.store import run_sql

revision = "acquisition_0002"
down_revision = "acquisition_0001"
branch_labels = None
depends_on = None

LORAWAN_DDL = """
ALTER TABLE ciudad_devices ADD COLUMN IF NOT EXISTS lorawan jsonb;
CREATE UNIQUE INDEX IF NOT EXISTS ciudad_devices_dev_eui
    ON ciudad_devices ((lower(lorawan->>'dev_eui'))) WHERE lorawan IS NOT NULL;
"""


def upgrade() -> None:
    run_sql(LORAWAN_DDL)
