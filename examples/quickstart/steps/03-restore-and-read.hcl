# Step 3: restore web-data1 as it was at "second" into a new disk, and grant read access
# to that disk restore point over a SAS URL (served by `bcdr serve`). Copy this file next
# to main.hcl.

locals {
  # disk restore point ids are <restore point id>/diskRestorePoints/<disk name>
  data1_at_second = "${restore_point.second.id}/diskRestorePoints/${managed_disk.data1.name}"
}

resource "managed_disk" "data1_restored" {
  name               = "web-data1-restored"
  resource_group     = resource_group.demo.name
  location           = var.location
  create_option      = "Restore"
  source_resource_id = local.data1_at_second
}

resource "disk_access" "data1_at_second" {
  disk_restore_point_id = local.data1_at_second
  access                = "Read"
  duration_seconds      = 3600
}

output "restored_disk_id" {
  value = managed_disk.data1_restored.id
}

output "sas_url" {
  value     = disk_access.data1_at_second.sas_url
  sensitive = true
}
