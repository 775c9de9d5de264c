# A configuration that uses every kind of top-level block.
provider "platform" {
  region = "westeurope"
}

variable "env" {
  type        = string
  default     = "prod"
  description = "environment name"
}

variable "sizes" {
  type    = map(number)
  default = { small = "8", large = 64 }
}

variable "secret" {
  type      = string
  sensitive = true
  nullable  = false

  validation {
    condition     = length(var.secret) >= 8
    error_message = "The secret must have at least 8 characters."
  }
}

locals {
  prefix = "bcdr-${var.env}"
}

resource "bcdr_data" "base" {
  input = local.prefix

  lifecycle {
    prevent_destroy       = true
    create_before_destroy = true
    ignore_changes        = [input, triggers_replace]
  }
}
