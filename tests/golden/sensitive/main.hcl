variable "password" {
  type      = string
  default   = "hunter2"
  sensitive = true
}

resource "bcdr_data" "secret" {
  input = var.password
}

resource "bcdr_data" "plain" {
  input = "visible"
}

output "password" {
  value     = var.password
  sensitive = true
}

output "plain" {
  value = bcdr_data.plain.input
}
