variable "size" {
  type = number
}

resource "bcdr_data" "a" {
  inptu = "typo"
}

resource "unknown_thing" "b" {
  x = 1
}

resource "bcdr_data" "c" {
  input = bcdr_data.missing.output
}
