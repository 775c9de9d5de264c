# Step 2: a second restore point of the same VM. Copy this file next to main.hcl.
# The plan says how many bytes it will snapshot: only the blocks written since "first".

resource "restore_point" "second" {
  name          = "second"
  collection_id = restore_point_collection.web.id
  depends_on    = [restore_point.first]
}

output "second_disk_restore_points" {
  description = "per disk: its disk restore point and the bytes this restore point stored"
  value = {
    for d in restore_point.second.disk_restore_points : d.disk_id => {
      id           = d.id
      bytes_stored = d.bytes_stored
    }
  }
}
