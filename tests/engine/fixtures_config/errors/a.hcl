resource "bcdr_data" "dup" {
  input = 1
}

resource "bcdr_data" "both" {
  count    = 2
  for_each = {}
}

resource "bcdr_data" {
  input = 1
}

module "m" {
  source = "./m"
}

resource "bcdr_data" "deps" {
  depends_on = [var.x, bcdr_data.dup.id, "bcdr_data.dup"]

  lifecycle {
    prevent_destroy = true
    destroy_later   = false
  }
}

variable "computed" {
  default = var.other
}

variable "badtype" {
  type = lst(string)
}

output "noval" {
  description = "no value"
}
