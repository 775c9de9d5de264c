resource "bcdr_data" "a" {
  input = "new"
}
