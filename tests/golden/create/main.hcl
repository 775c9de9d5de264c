variable "name" {
  type    = string
  default = "nightly"
}

resource "bcdr_data" "policy" {
  input = {
    name      = var.name
    retention = 7
    regions   = ["westeurope", "northeurope"]
  }
}

resource "bcdr_data" "job" {
  input = "${bcdr_data.policy.output.name}-job"
}
