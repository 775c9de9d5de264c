resource "bcdr_data" "broken" {
  input = [1, 2
}
