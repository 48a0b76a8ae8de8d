"""How long what the contract takes may be: checked at the edge (taxi_core/validation.py) and
the columns' sizes (taxi_core/models.py). Apart from the models so that what only validates
(the router worker's components, through taxi_core.config) does not import SQLAlchemy."""

USERNAME_MAX = 150
NAME_MAX = 150
ADDRESS_MAX = 255
REQUEST_ID_MAX = 64
PUBLIC_KEY_LENGTH = 64  # an Ed25519 public key in hex
DEVICE_NAME_MAX = 100
