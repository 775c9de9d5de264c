resource "bcdr_data" "disk" {
  count = 2
  input = "disk-${count.index}"
}

resource "bcdr_data" "vault" {
  for_each = { east = "eastus", west = "westus" }
  input    = each.value
}
