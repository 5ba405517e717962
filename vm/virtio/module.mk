# vm/virtio/ fragment: unit tests, console_echo, bench, fuzz target.
