//! The process-wide JVM ([`CuratorRuntime`]): starting it with the adapter
//! on its classpath, and static calls into it.

use std::fmt;
use std::sync::OnceLock;

use j4rs::{InvocationArg, JavaOpt, Jvm, JvmBuilder};

use crate::contender::StartError;

use super::classpath::{curator_classpath, find_j4rs_jar};
use super::compile::compile_adapter;
use super::error::InitError;
use super::jni::{arg, java_message};
use super::jvm::{find_program, locate_java_home, INSTALL_JDK};

/// The adapter class, fully qualified.
pub(super) const ADAPTER_CLASS: &str = "zkurator.interop.CuratorContender";

/// The process-wide JVM, or why it could not be started.
pub(super) static JVM: OnceLock<Result<JvmInfo, InitError>> = OnceLock::new();

#[derive(Debug)]
pub(super) struct JvmInfo {
    /// The Curator jars asked for (`None`: Debian's).
    asked: Option<std::ffi::OsString>,
    version: String,
    location: String,
    classpath: String,
}

/// Handle to the process-wide JVM running Apache Curator.
///
/// Cheap to copy; every handle refers to the same JVM. See the module
/// documentation for the classpath, the jars and the threading model.
#[derive(Clone, Copy)]
pub struct CuratorRuntime {
    info: &'static JvmInfo,
}

impl fmt::Debug for CuratorRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CuratorRuntime")
            .field("version", &self.info.version)
            .field("location", &self.info.location)
            .finish()
    }
}

impl CuratorRuntime {
    /// Starts the process-wide JVM on first use (compiling the adapter if its
    /// sources changed) and returns a handle to it. Later calls return the same
    /// JVM, or the same error: a JVM cannot be started twice in one process.
    ///
    /// Errors: [`StartError::Missing`] when `java`/`javac` (JDK), the Curator jars
    /// or j4rs's jar cannot be found; [`StartError::Failed`] for anything else
    /// (compile errors, JVM creation failure).
    ///
    /// The jars are `CURATOR_CLASSPATH`'s when it is set (a worker process
    /// gets its release's jars so), else Debian's: see
    /// [`CuratorRuntime::start_with`], which the harness's peers call with the
    /// jars the CLI chose.
    pub fn start() -> Result<CuratorRuntime, StartError> {
        CuratorRuntime::start_with(crate::versions::PeerChoices::from_env().curator_classpath.as_deref())
    }

    /// [`CuratorRuntime::start`] with the Curator jars of `classpath` (a
    /// colon-separated list; `None`: the Debian packages' jars). The JVM
    /// started first in the process decides: asking for other jars later is
    /// an error saying so (run another process for another release).
    pub fn start_with(classpath: Option<&std::ffi::OsStr>) -> Result<CuratorRuntime, StartError> {
        let asked = classpath.filter(|c| !c.is_empty());
        match JVM.get_or_init(|| init_jvm(asked)) {
            Ok(info) if info.asked.as_deref() == asked => Ok(CuratorRuntime { info }),
            Ok(info) => Err(StartError::Failed {
                runtime: crate::contender::Runtime::Curator,
                id: String::new(),
                message: format!(
                    "this process's JVM runs Curator {} ({}); other jars were asked for ({}): \
                     a JVM cannot load a second Curator, so run them in another process",
                    info.version,
                    info.location,
                    asked.map_or("Debian's".into(), |c| c.to_string_lossy().into_owned()),
                ),
            }),
            Err(e) => Err(e.to_start_error()),
        }
    }

    /// The Curator version actually loaded (from the curator-framework jar), e.g. `5.4.0`.
    pub fn version(&self) -> String {
        self.info.version.clone()
    }

    /// Where curator-framework was loaded from (a `file:` URL).
    pub fn curator_location(&self) -> &str {
        &self.info.location
    }

    /// The JVM's `java.class.path`.
    pub fn classpath(&self) -> &str {
        &self.info.classpath
    }
}

pub(super) fn init_jvm(asked: Option<&std::ffi::OsStr>) -> Result<JvmInfo, InitError> {
    let java_home = locate_java_home()?;
    let javac = find_program("javac").ok_or_else(|| {
        InitError::missing(
            "javac",
            "no javac in $JAVA_HOME/bin or on PATH (a JDK, not only a JRE, is needed to compile the Curator adapter)",
            INSTALL_JDK,
        )
    })?;
    let jars = curator_classpath(asked)?;
    let classes = compile_adapter(&javac, &jars)?;
    let j4rs_jar = crate::assets::j4rs_jar().map_or_else(find_j4rs_jar, Ok)?;

    let mut entries: Vec<String> = jars.iter().map(|p| p.display().to_string()).collect();
    entries.push(classes.display().to_string());
    entries.push(j4rs_jar.display().to_string());
    let classpath = entries.join(":");
    let classpath_opt = format!("-Djava.class.path={classpath}");
    tracing::debug!(java_home = %java_home.display(), %classpath, "starting the JVM for Curator");

    // j4rs panics (instead of returning an error) when it cannot load libjvm.
    let built = std::panic::catch_unwind(|| {
        JvmBuilder::new()
            .with_no_implicit_classpath()
            // No Java->Rust callbacks are used: do not make j4rs's Java side load its
            // native library (java.library.path is not set in this mode).
            .skip_setting_native_lib()
            .java_opt(JavaOpt::new(&classpath_opt))
            .build()
    });
    let jvm = match built {
        Ok(Ok(jvm)) => jvm,
        Ok(Err(e)) => return Err(InitError::Failed(format!("JVM creation failed: {e}"))),
        Err(_) => {
            return Err(InitError::Failed(format!(
                "JVM creation panicked (could j4rs load libjvm from {}?)",
                java_home.display()
            )))
        }
    };
    let version = jvm
        .invoke_static(ADAPTER_CLASS, "curatorVersion", InvocationArg::empty())
        .and_then(|v| jvm.to_rust::<String>(v))
        .map_err(|e| {
            InitError::Failed(format!(
                "the adapter class cannot be used ({}); was a JVM already started in this \
                 process with another classpath? Classpath wanted: {classpath}",
                java_message(&e)
            ))
        })?;
    let location = jvm
        .invoke_static(ADAPTER_CLASS, "curatorLocation", InvocationArg::empty())
        .and_then(|v| jvm.to_rust::<String>(v))
        .unwrap_or_default();
    let actual_classpath = jvm
        .invoke_static(
            "java.lang.System",
            "getProperty",
            &[InvocationArg::try_from("java.class.path").map_err(|e| InitError::Failed(e.to_string()))?],
        )
        .and_then(|v| jvm.to_rust::<String>(v))
        .unwrap_or(classpath);
    drop(jvm);
    Ok(JvmInfo { asked: asked.map(ToOwned::to_owned), version, location, classpath: actual_classpath })
}

/// Calls a public static `String method(String)` of a class on the JVM's
/// classpath (the adapter classes in `java/` included) and returns its result:
/// for probes that take and return JSON, such as
/// `zkurator.interop.DriverProbe.run`. `runtime` proves the JVM was started
/// ([`CuratorRuntime::start`]). Errors carry the Java exception's first line.
pub fn invoke_static_string(
    runtime: &CuratorRuntime,
    class: &str,
    method: &str,
    argument: &str,
) -> Result<String, String> {
    let _ = runtime;
    let jvm = Jvm::attach_thread().map_err(|e| format!("attach to the JVM: {e}"))?;
    let argument = arg(argument).map_err(|e| format!("argument for {class}.{method}: {e}"))?;
    jvm.invoke_static(class, method, &[argument])
        .and_then(|result| jvm.to_rust::<String>(result))
        .map_err(|e| format!("{class}.{method}: {}", java_message(&e)))
}
