//! j4rs helpers: global references, arguments, and adapter calls returning
//! a [`Reply`] as JSON.

use j4rs::{Instance, InvocationArg, Jvm};

use crate::contender::{ErrorKind, Reply};

/// A j4rs [`Instance`] (a JNI global reference) that is released with the
/// current thread attached: j4rs only deletes the reference when the dropping
/// thread has a JNI environment, and would leak it otherwise.
pub(super) struct GlobalRef(pub(super) Option<Instance>);

impl GlobalRef {
    pub(super) fn get(&self) -> &Instance {
        self.0.as_ref().expect("instance present until drop")
    }
}

impl Drop for GlobalRef {
    fn drop(&mut self) {
        if let Some(instance) = self.0.take() {
            let jvm = Jvm::attach_thread();
            drop(instance);
            drop(jvm);
        }
    }
}

pub(super) fn arg(s: &str) -> j4rs::errors::Result<InvocationArg> {
    InvocationArg::try_from(s)
}

pub(super) fn prim<T>(value: T) -> j4rs::errors::Result<InvocationArg>
where
    InvocationArg: TryFrom<T, Error = j4rs::errors::J4RsError>,
{
    InvocationArg::try_from(value)?.into_primitive()
}

pub(super) fn other(message: String) -> Reply {
    Reply::Error { kind: ErrorKind::Other, message }
}

/// Calls an adapter method that returns a reply as JSON.
pub(super) fn call<const N: usize>(
    jvm: &Jvm,
    adapter: &Instance,
    method: &str,
    args: [j4rs::errors::Result<InvocationArg>; N],
) -> Reply {
    let mut converted = Vec::with_capacity(N);
    for a in args {
        match a {
            Ok(a) => converted.push(a),
            Err(e) => return other(format!("argument for {method}: {e}")),
        }
    }
    let json = match jvm.invoke(adapter, method, &converted).and_then(|result| jvm.to_rust::<String>(result)) {
        Ok(json) => json,
        Err(e) => return other(format!("{method}: {}", java_message(&e))),
    };
    match serde_json::from_str::<Reply>(&json) {
        Ok(reply) => reply,
        Err(e) => other(format!("{method}: unreadable reply {json:?}: {e}")),
    }
}

pub(super) fn call_string(jvm: &Jvm, adapter: &Instance, method: &str) -> Option<String> {
    jvm.invoke(adapter, method, InvocationArg::empty()).and_then(|result| jvm.to_rust::<String>(result)).ok()
}

/// The first line of a j4rs error (Java errors carry the whole stack trace).
pub(super) fn java_message(e: &j4rs::errors::J4RsError) -> String {
    let text = e.to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("").trim().to_string();
    // j4rs wraps the exception; the cause line says what actually happened.
    match lines.find(|l| l.trim_start().starts_with("Caused by:")) {
        Some(cause) => format!("{first} ({})", cause.trim()),
        None => first,
    }
}
