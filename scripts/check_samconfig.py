"""Every samconfig.toml environment names only parameters template.yaml declares, with
values the template allows (a typo there would surface only at deploy time)."""
import re
import sys
import tomllib

from cfnlint.decode import decode

template, errors = decode("template.yaml")
if errors:
    sys.exit(f"template.yaml: {errors}")
params = template["Parameters"]
config = tomllib.load(open("samconfig.toml", "rb"))
failures = []
for env, commands in config.items():
    if not isinstance(commands, dict) or "deploy" not in commands:
        continue
    deploy = commands["deploy"]["parameters"]
    for name, value in re.findall(r'(\w+)=("[^"]*"|\S+)', deploy.get("parameter_overrides", "")):
        value = value.strip('"')
        spec = params.get(name)
        if spec is None:
            failures.append(f"{env}: {name} is not a template parameter")
            continue
        allowed = [str(v) for v in spec.get("AllowedValues", [])]
        if allowed and value not in allowed:
            failures.append(f"{env}: {name}={value} is not one of {allowed}")
        if "MinValue" in spec and float(value) < float(spec["MinValue"]):
            failures.append(f"{env}: {name}={value} is below {spec['MinValue']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            failures.append(f"{env}: {name}={value} does not match {spec['AllowedPattern']}")
    for key in ("stack_name", "region"):
        if key not in commands.get("global", {}).get("parameters", {}):
            failures.append(f"{env}: no {key}, so sam deploy would prompt for it")
if failures:
    sys.exit("samconfig.toml:\n  " + "\n  ".join(failures))
print("samconfig.toml: environments", ", ".join(k for k in config if k != "version"), "match template.yaml")
