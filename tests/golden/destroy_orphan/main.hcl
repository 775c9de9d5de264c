resource "bcdr_data" "kept" {
  input = "k"
}
