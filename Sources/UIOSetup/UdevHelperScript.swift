/// The helper that `99-swift-uio.rules` runs with RUN+=, installed by `uioctl udev install`.
///
/// Kept in the binary so that `uioctl` can install it from anywhere. It is the same text as
/// `udev/swift-uio-bind` in the repository (a unit test compares the two). The empty line before the closing
/// delimiter keeps the file's final newline.
public enum UdevHelperScript {
    public static let text = #"""
#!/bin/sh
# swift-uio-bind: what a udev rule alone cannot do for swift-uio. 99-swift-uio.rules calls it
# through RUN+= (as root, after every rule was applied); `uioctl udev install` installs it.
#
#   swift-uio-bind bind ADDR [DRIVER]  route PCI device ADDR to DRIVER (default uio_pci_generic):
#                                      driver_override, modprobe, take it from a kernel driver
#                                      that bound first (remembered in /run/swift-uio/ADDR.driver
#                                      for `uioctl unbind`), drivers_probe
#   swift-uio-bind perms UIO GROUP     give GROUP the sysfs config and resourceN files of the
#                                      PCI device behind UIO (uio0, ...), mode 0660
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin
log() {
  echo "swift-uio-bind: $*" >&2
  command -v logger >/dev/null 2>&1 && logger -t swift-uio-bind -- "$*"
  return 0
}
driver_of() { [ -e "$1/driver" ] && basename "$(readlink "$1/driver")"; }

bind_device() {
  addr=$1 driver=${2:-uio_pci_generic}
  dev=/sys/bus/pci/devices/$addr
  [ -d "$dev" ] || { log "no PCI device $addr"; exit 1; }
  # The rule has written it already; write it again for calls by hand.
  echo "$driver" > "$dev/driver_override" || { log "cannot write $dev/driver_override"; exit 1; }
  modprobe -q "$driver" || log "modprobe $driver failed: is the module installed?"
  # vfio-pci's containers need the type1 IOMMU backend, a module of its own.
  [ "$driver" = vfio-pci ] && { modprobe -q vfio_iommu_type1 || log "modprobe vfio_iommu_type1 failed"; }
  current=$(driver_of "$dev")
  [ "$current" = "$driver" ] && { log "$addr bound to $driver"; exit 0; }
  if [ -n "$current" ]; then
    # A kernel driver was loaded (or built in) and bound at device_add, before this event.
    mkdir -p /run/swift-uio && echo "$current" > "/run/swift-uio/$addr.driver"
    echo "$addr" > "$dev/driver/unbind" || { log "cannot unbind $addr from $current"; exit 1; }
  fi
  echo "$addr" > /sys/bus/pci/drivers_probe
  current=$(driver_of "$dev")
  [ "$current" = "$driver" ] || { log "$addr did not bind to $driver (driver: ${current:-none}); see dmesg"; exit 1; }
  log "$addr bound to $driver"
}

give_files() {
  uio=$1 group=$2
  dev=$(readlink -f "/sys/class/uio/$uio/device")
  [ -e "$dev/config" ] || { log "$uio: no PCI device behind it"; exit 1; }
  for f in "$dev/config" "$dev"/resource[0-9]*; do
    [ -e "$f" ] || continue
    chgrp "$group" "$f" && chmod 0660 "$f" || { log "cannot give $f to group $group"; exit 1; }
  done
}

case "${1:-}" in
  bind) [ $# -ge 2 ] || { log "usage: $0 bind ADDR [DRIVER]"; exit 2; }; bind_device "$2" "${3:-}" ;;
  perms) [ $# -eq 3 ] || { log "usage: $0 perms UIO GROUP"; exit 2; }; give_files "$2" "$3" ;;
  *) log "usage: $0 bind ADDR [DRIVER] | perms UIO GROUP"; exit 2 ;;
esac

"""#
}
