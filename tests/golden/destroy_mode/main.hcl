resource "bcdr_data" "a" {
  input = "a"
}

resource "bcdr_data" "b" {
  input = bcdr_data.a.output
}
