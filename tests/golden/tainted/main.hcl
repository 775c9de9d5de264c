resource "bcdr_data" "a" {
  input = "a"
}
