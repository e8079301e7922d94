"""Reads local mode's JumpStart content bucket the way the SageMaker Python SDK's cache does
(aws/sagemaker-python-sdk jumpstart cache.py JumpStartModelsCache: s3 get_object of
models_manifest.json, the version picked with packaging's SpecifierSet / Version as
_select_version and utils.get_latest_version do, then get_object of the spec_key it names;
types.py JumpStartModelHeader / JumpStartModelSpecs / JumpStartInstanceTypeVariants for the
fields), and prints what the SDK would deploy, one JSON line per (model, version asked).

Env: S3_ENDPOINT_URL, REGION, MODEL_ID, INSTANCE_TYPE.
"""
import json
import os
import re

import boto3
from packaging.specifiers import SpecifierSet
from packaging.version import Version

region = os.environ["REGION"]
bucket = f"jumpstart-cache-prod-{region}"
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name=region)


def get_json(key):
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def select_version(version_str, available):
    # cache.py JumpStartModelsCache._select_version (open weights)
    if version_str == "*":
        return max(available, key=Version) if available else None
    spec = SpecifierSet(f"=={version_str}")
    filtered = list(spec.filter(available))
    return str(max(filtered)) if filtered else None


def family(instance_type):
    # common_utils.py get_instance_type_family
    match = re.match(r"^ml[\._]([a-z\d\-]+)\.?\w*$", instance_type)
    return match[1] if match else ""


def image_uri(specs, instance_type):
    # types.py JumpStartInstanceTypeVariants._get_regional_property(property_name="image_uri")
    variants = specs["hosting_instance_type_variants"]
    aliases = variants["regional_aliases"]
    alias = variants["variants"].get(instance_type, {}).get("regional_properties", {}).get("image_uri")
    if alias is None:
        alias = variants["variants"].get(family(instance_type), {}).get("regional_properties", {}).get("image_uri")
    return aliases[region][alias[1:]]


manifest = get_json("models_manifest.json")
model_id = os.environ["MODEL_ID"]
instance_type = os.environ["INSTANCE_TYPE"]
versions = [h["version"] for h in manifest if h["model_id"] == model_id]
for asked in ["*", "1.*", "2.0.0"]:
    chosen = select_version(asked, versions)
    header = next(h for h in manifest if h["model_id"] == model_id and h["version"] == chosen)
    specs = get_json(header["spec_key"])
    env = {v["name"]: str(v["default"]) for v in specs["inference_environment_variables"]}
    print(json.dumps({
        "asked": asked,
        "version": chosen,
        "spec_key": header["spec_key"],
        "image": image_uri(specs, instance_type),
        # model_uris.py _retrieve_model_uri: the prepacked key when the spec has one
        "model_data": f"s3://{bucket}/{specs['hosting_prepacked_artifact_key']}",
        "environment": env,
    }))
