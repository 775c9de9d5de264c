secret = "auto-secret"
