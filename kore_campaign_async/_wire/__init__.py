"""Wire format, pure: models, the cattrs converter, request building and input checks."""
