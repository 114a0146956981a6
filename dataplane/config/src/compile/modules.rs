use crate::error::{FieldPath, Violations};
use crate::modules::{AccessLog, AccessLogTarget, Modules};
use crate::raw::RawGlobalModules;

pub(super) fn compile_global(
    raw: &RawGlobalModules,
    path: &FieldPath,
    errs: &mut Violations,
) -> Modules {
    let al = &raw.access_log;
    let access_log = al.enabled.then(|| {
        let target = match al.target.as_str() {
            "stdout" | "-" => AccessLogTarget::Stdout,
            "" => {
                errs.push(
                    &path.field("access_log").field("target"),
                    "give 'stdout' or a file path",
                );
                AccessLogTarget::Stdout
            }
            file => AccessLogTarget::File(file.into()),
        };
        AccessLog {
            format: al.format,
            target,
        }
    });
    Modules { access_log }
}
