resource "bcdr_data" "dup" {
  input = 2
}

variable "computed" {
}

locals {
  x = 1
}

locals {
  x = 2
}

output "o" {
  value = 1
}

output "o" {
  value = 2
}
