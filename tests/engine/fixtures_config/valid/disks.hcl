resource "bcdr_data" "disk" {
  for_each   = var.sizes
  input      = "${local.prefix}-${each.key}-${each.value}"
  depends_on = [bcdr_data.base]

  nested {
    deep = true
  }
}

resource "bcdr_data" "copies" {
  count = 3
  input = bcdr_data.disk["small"].output
}

output "copy_ids" {
  value       = bcdr_data.copies[*].id
  description = "ids of the copies"
  sensitive   = true
  depends_on  = [bcdr_data.disk]
}
