resource "bcdr_data" "a" {
  input            = "a"
  triggers_replace = 2

  lifecycle {
    create_before_destroy = true
  }
}
