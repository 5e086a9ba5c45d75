//! The setters every lock builder shares, over its `settings: Settings`.

/// Adds the shared setters (`data`, `acls`, `max_request_bytes`, and in
/// harness builds `negative_control`) to a builder with a `settings` field.
macro_rules! shared_setters {
    ($builder:ty) => {
        impl $builder {
            /// Bytes stored in the lock nodes (default: this host's address,
            /// as Curator's `lockData`).
            pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
                self.settings.data = Some(data.into());
                self
            }

            /// ACLs for the lock nodes and created parents (default: open to anyone).
            pub fn acls(mut self, acls: Vec<zookeeper_client::Acl>) -> Self {
                self.settings.acls = acls;
                self
            }

            /// The largest request the server accepts (its `jute.maxbuffer`;
            /// default ZooKeeper's 1 MiB): lock data that cannot fit is refused
            /// by `build`, guarded writes that cannot fit by their `commit`.
            pub fn max_request_bytes(mut self, bytes: usize) -> Self {
                self.settings.max_request_bytes = bytes;
                self
            }

            /// Breaks this handle's lock rule on purpose (the harness's negative controls).
            #[cfg(zkurator_harness)]
            pub fn negative_control(mut self, control: crate::negative::NegativeControl) -> Self {
                self.settings.broken = Some(control);
                self
            }
        }
    };
}

pub(crate) use shared_setters;
