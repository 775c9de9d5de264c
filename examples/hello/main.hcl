# The smallest bcdr configuration: two built-in `bcdr_data` resources, one feeding the other.
# Run from this folder: bcdr init && bcdr plan && bcdr apply -auto-approve

variable "environment" {
  type        = string
  default     = "demo"
  description = "Which environment these settings describe."

  validation {
    condition     = contains(["demo", "staging", "production"], var.environment)
    error_message = "environment must be demo, staging or production."
  }
}

locals {
  retention_days = var.environment == "production" ? 30 : 7
}

resource "bcdr_data" "policy" {
  input = {
    name           = "nightly-${var.environment}"
    retention_days = local.retention_days
  }
}

resource "bcdr_data" "schedule" {
  input = {
    policy = bcdr_data.policy.output.name
    hours  = [for h in range(0, 24, 6) : format("%02d:00", h)]
  }
}

output "schedule" {
  value = bcdr_data.schedule.output
}
