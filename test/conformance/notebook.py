"""The AWS notebook's own SDK calls, replayed with boto3 against the local stack.

The notebook is aws/amazon-sagemaker-examples,
introduction_to_amazon_algorithms/jumpstart-foundation-models/text2text-generation-flan-t5-Batch-Transform.ipynb.
Its `sagemaker` Python SDK calls are written here as the boto3 calls they make on the wire
(no `sagemaker` package is needed). Every user mistake is compared with the error code and
message AWS documents or answers; each check names the API reference page it comes from.

Environment: SAGEMAKER_ENDPOINT_URL (runtime and control plane), S3_ENDPOINT_URL, ordinary
credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and AWS_DEFAULT_REGION. Prints one
"ok - ..." line per check and, last, "conformance: N checks passed"; exits 1 at the first failure.
"""

import ast
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

SAGEMAKER = os.environ["SAGEMAKER_ENDPOINT_URL"]
S3_URL = os.environ["S3_ENDPOINT_URL"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
WAIT = {"Delay": 1, "MaxAttempts": 60}
ACCOUNT = "000000000000"

checks = 0


def check(condition, what, got=None):
    global checks
    if not condition:
        print(f"not ok - {what}" + ("" if got is None else f" (got {got!r})"), flush=True)
        sys.exit(1)
    checks += 1
    print(f"ok - {what}", flush=True)


def client_error(call, **kwargs):
    """The ClientError a call raises (a failed check if it succeeds)."""
    try:
        call(**kwargs)
    except ClientError as err:
        return err
    check(False, f"{call.__name__} should have failed")


def code_and_message(err):
    return err.response["Error"]["Code"], err.response["Error"]["Message"]


sm = boto3.client("sagemaker", endpoint_url=SAGEMAKER, region_name=REGION)
runtime = boto3.client("runtime.sagemaker", endpoint_url=SAGEMAKER, region_name=REGION)
s3 = boto3.client("s3", endpoint_url=S3_URL, region_name=REGION, config=Config(s3={"addressing_style": "path"}))

# ---------------------------------------------------------------------------------------------
# 1. Set up: sess.default_bucket() creates the bucket if needed, every session again
# ---------------------------------------------------------------------------------------------
output_bucket = f"sagemaker-{REGION}-{ACCOUNT}"
s3.create_bucket(Bucket=output_bucket)
# S3 API reference, CreateBucket (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html),
# BucketAlreadyOwnedByYou: "if you re-create an existing bucket that you already own in the
# North Virginia Region, Amazon S3 returns 200 OK"
again = s3.create_bucket(Bucket=output_bucket)
check(again["ResponseMetadata"]["HTTPStatusCode"] == 200, "CreateBucket of one's own bucket again: 200 in us-east-1")

# ---------------------------------------------------------------------------------------------
# 5. Prepare data: articles.jsonl under <prefix>/batch_input/, ids 0..n-1
# ---------------------------------------------------------------------------------------------
output_prefix = "jumpstart-example-text2text-batch-transform"
s3_input_data_path = f"s3://{output_bucket}/{output_prefix}/batch_input/"
s3_output_data_path = f"s3://{output_bucket}/{output_prefix}/batch_output/"
prompt = "Briefly summarize this text: "

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()


def article(i):
    # sentences of 20 words each, so max_length cuts are visible
    sentences = []
    for s in range(6):
        words = [WORDS[(i + s + k) % len(WORDS)] for k in range(19)]
        sentences.append(f"Article {i} sentence {s} " + " ".join(words[2:]) + ".")
    return " ".join(sentences)


test_articles = [{"id": i, "text_inputs": f"{prompt}{article(i)}"} for i in range(12)]
with open("articles.jsonl", "w") as outfile:
    for entry in test_articles:
        outfile.write("%s\n" % json.dumps(entry))
s3.upload_file("articles.jsonl", output_bucket, os.path.join(output_prefix + "/batch_input/articles.jsonl"))
check(True, "upload_file of articles.jsonl with ordinary credentials")

# ---------------------------------------------------------------------------------------------
# 3./6. model = Model(image_uri, model_data, role); model.transformer(...).transform(...).wait()
# ---------------------------------------------------------------------------------------------
image_uri = f"763104351884.dkr.ecr.{REGION}.amazonaws.com/huggingface-pytorch-inference:1.10.2-transformers4.17.0-gpu-py38-cu113-ubuntu20.04"
model_uri = f"s3://jumpstart-cache-prod-{REGION}/huggingface-infer/prepack/v1.0.2/infer-prepack-huggingface-text2text-flan-t5-large.tar.gz"
role = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole"


def create_model(name):
    # what Model.transformer()/deploy() send first (CreateModel API reference,
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html)
    sm.create_model(ModelName=name, PrimaryContainer={"Image": image_uri, "ModelDataUrl": model_uri, "Environment": {}}, ExecutionRoleArn=role)


hyper_params = {"batch_size": 4, "max_length": 50, "top_k": 50, "top_p": 0.95, "do_sample": True}
hyper_params_dict = {"HYPER_PARAMS": str(hyper_params)}


def transform(job_name, model_name, input_path, output_path, env):
    """batch_transformer.transform(input, content_type="application/jsonlines", split_type="Line")."""
    request = dict(
        TransformJobName=job_name,
        ModelName=model_name,
        MaxPayloadInMB=1,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_path}}, "ContentType": "application/jsonlines", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": output_path, "Accept": "text/csv", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1},
    )
    if env is not None:
        request["Environment"] = env
    return sm.create_transform_job(**request)


model_name = "huggingface-text2text-flan-t5-large-2024-01-01-00-00-00-000"
create_model(model_name)
job_name = "huggingface-text2text-flan-t5-large-2024-01-01-00-00-01-000"
created = transform(job_name, model_name, s3_input_data_path, s3_output_data_path, hyper_params_dict)
check(created["TransformJobArn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:transform-job/{job_name}", "CreateTransformJob with the notebook's arguments")
# batch_transformer.wait(): the SDK polls DescribeTransformJob; the waiter does the same
sm.get_waiter("transform_job_completed_or_stopped").wait(TransformJobName=job_name, WaiterConfig=WAIT)
described = sm.describe_transform_job(TransformJobName=job_name)
check(described["TransformJobStatus"] == "Completed", f"the job Completed ({described.get('FailureReason', '')})")
check(described["Environment"] == hyper_params_dict and described["MaxPayloadInMB"] == 1, "DescribeTransformJob shows the job as created")

# 7. Download the predictions and read them as the notebook does
s3.download_file(output_bucket, output_prefix + "/batch_output/" + "articles.jsonl.out", "predict.jsonl")
with open("predict.jsonl", "r") as json_file:
    json_list = list(json_file)
predict_dict_list = []
for predict in json_list:
    if len(predict) > 1:
        predict_dict = ast.literal_eval(predict)
        predict_dict_list.append({"id": predict_dict["id"], "prediction": predict_dict["generated_texts"][0]})
ids = [p["id"] for p in predict_dict_list]
check(sorted(ids) == list(range(len(test_articles))) and len(ids) == len(set(ids)), "ast.literal_eval of every line; every id exactly once")
check(all(isinstance(p["prediction"], str) and 0 < len(p["prediction"].split()) <= 50 for p in predict_dict_list), "HYPER_PARAMS max_length 50 applied")
listed = s3.list_objects_v2(Bucket=output_bucket, Prefix=output_prefix + "/batch_output/")
check([o["Key"] for o in listed.get("Contents", [])] == [output_prefix + "/batch_output/articles.jsonl.out"], "only articles.jsonl.out under the output path")

# JumpStart's rule (the notebook, section 4): "If any of these are passed, then the advanced
# hyper-parameters from the individual examples in the JSONLINES payload will not be used. If
# you don't want to pass it, set it to None, and in that case advanced hyper-parameters from the
# individual examples in the JSONLINES payload will be used"
own_prefix = f"{output_prefix}/own_params_input/"
s3.put_object(Bucket=output_bucket, Key=own_prefix + "own.jsonl", Body="".join(json.dumps({"id": i, "text_inputs": article(i), "max_length": 3}) + "\n" for i in range(4)))
transform("hyper-params-set", model_name, f"s3://{output_bucket}/{own_prefix}", f"s3://{output_bucket}/{output_prefix}/out-hyper/", hyper_params_dict)
transform("hyper-params-none", model_name, f"s3://{output_bucket}/{own_prefix}", f"s3://{output_bucket}/{output_prefix}/out-none/", None)
for name in ("hyper-params-set", "hyper-params-none"):
    sm.get_waiter("transform_job_completed_or_stopped").wait(TransformJobName=name, WaiterConfig=WAIT)


def first_texts(key):
    body = s3.get_object(Bucket=output_bucket, Key=key)["Body"].read().decode()
    return [ast.literal_eval(line)["generated_texts"][0] for line in body.splitlines() if line.strip()]


with_hyper = first_texts(f"{output_prefix}/out-hyper/own.jsonl.out")
without = first_texts(f"{output_prefix}/out-none/own.jsonl.out")
check(all(len(t.split()) > 3 for t in with_hyper), "HYPER_PARAMS set: the records' own max_length 3 is not used")
check(all(len(t.split()) <= 3 for t in without), "HYPER_PARAMS unset: the records' own max_length 3 is used")

# batch_transformer.delete_model() (DeleteModel API reference)
sm.delete_model(ModelName=model_name)
err = client_error(sm.describe_model, ModelName=model_name)
check(code_and_message(err) == ("ValidationException", f'Could not find model "arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{model_name}".'), "delete_model(): the model is gone", code_and_message(err))

# ---------------------------------------------------------------------------------------------
# 8. model.deploy(initial_instance_count=1, instance_type, endpoint_name): CreateModel,
#    CreateEndpointConfig, CreateEndpoint, then wait for InService
# ---------------------------------------------------------------------------------------------
# name_from_base(f"jumpstart-example-{model_id}"): the base cut so the name fits in 63
endpoint_name = "jumpstart-example-huggingface-text2t-2024-01-01-00-00-02-000"
deploy_model = "huggingface-text2text-flan-t5-large-2024-01-01-00-00-02-000"
create_model(deploy_model)
sm.create_endpoint_config(EndpointConfigName=endpoint_name, ProductionVariants=[{
    "VariantName": "AllTraffic", "ModelName": deploy_model, "InitialInstanceCount": 1, "InstanceType": "ml.p3.2xlarge", "InitialVariantWeight": 1}])
sm.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=endpoint_name)
check(sm.describe_endpoint(EndpointName=endpoint_name)["EndpointStatus"] == "Creating", "CreateEndpoint: Creating")
sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint_name, WaiterConfig=WAIT)
check(sm.describe_endpoint(EndpointName=endpoint_name)["EndpointStatus"] == "InService", "endpoint_in_service waiter")

# 8.2 Real-time batch inference: the notebook's payload, batch_size included
text_inputs = [entry["text_inputs"] for entry in test_articles[0:10]]
payload = {"text_inputs": text_inputs, "max_length": 50, "num_return_sequences": 1, "top_k": 50, "top_p": 0.95, "do_sample": True, "batch_size": 4}
query_response = runtime.invoke_endpoint(EndpointName=endpoint_name, ContentType="application/json", Body=json.dumps(payload).encode("utf-8"))
generated_text_list = json.loads(query_response["Body"].read())
print(*generated_text_list, sep="\n")
check(isinstance(generated_text_list, list) and len(generated_text_list) == 10, "InvokeEndpoint with a list of 10: a list of 10 answers")
check(all(isinstance(g, list) and len(g) == 1 and isinstance(g[0], str) and g[0].startswith("Article ") for g in generated_text_list),
      "each answer the input's generated texts: print(*generated_text_list) prints the summaries")

# model_predictor.delete_model(); model_predictor.delete_endpoint() (DeleteEndpointConfig too)
sm.delete_model(ModelName=deploy_model)
sm.delete_endpoint_config(EndpointConfigName=endpoint_name)
sm.delete_endpoint(EndpointName=endpoint_name)
sm.get_waiter("endpoint_deleted").wait(EndpointName=endpoint_name, WaiterConfig=WAIT)
err = client_error(sm.describe_endpoint, EndpointName=endpoint_name)
# DescribeEndpoint of a deleted endpoint: ValidationException naming its ARN (what the waiter waits for)
check(code_and_message(err) == ("ValidationException", f'Could not find endpoint "arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{endpoint_name}".'),
      "endpoint_deleted waiter; DescribeEndpoint: Could not find endpoint", code_and_message(err))

# ---------------------------------------------------------------------------------------------
# User mistakes, each as AWS answers it
# ---------------------------------------------------------------------------------------------
create_model("mistakes-model")
ok_input = s3_input_data_path


def no_objects_message(uri, bucket):
    return (f'No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that the bucket exists in the selected region ({REGION}), '
            f'that objects exist under that S3 prefix, and that the role "{role}" has "s3:ListBucket" permissions on bucket "{bucket}".')


# CreateTransformJob (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html)
# validates its input at once; SageMaker's wording as in aws/amazon-sagemaker-examples issue #2414
missing_bucket = "s3://no-such-bucket-0123/batch_input/"
err = client_error(transform, job_name="missing-bucket", model_name="mistakes-model", input_path=missing_bucket, output_path=s3_output_data_path, env=None)
check(code_and_message(err) == ("ValidationException", no_objects_message(missing_bucket, "no-such-bucket-0123")), "missing bucket: ValidationException, no S3 objects", code_and_message(err))
missing_prefix = f"s3://{output_bucket}/no/such/prefix/"
err = client_error(transform, job_name="missing-prefix", model_name="mistakes-model", input_path=missing_prefix, output_path=s3_output_data_path, env=None)
check(code_and_message(err) == ("ValidationException", no_objects_message(missing_prefix, output_bucket)), "missing prefix: ValidationException, no S3 objects", code_and_message(err))
# S3 GetObject / ListObjectsV2 API reference: NoSuchBucket, NoSuchKey
err = client_error(s3.list_objects_v2, Bucket="no-such-bucket-0123")
check(err.response["Error"]["Code"] == "NoSuchBucket", "S3 ListObjectsV2 on a missing bucket: NoSuchBucket")
err = client_error(s3.get_object, Bucket=output_bucket, Key="no/such/key")
check(err.response["Error"]["Code"] == "NoSuchKey", "S3 GetObject of a missing key: NoSuchKey")

# CreateTransformJob errors: ResourceInUse for a name in use; ValidationException for the name
# pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} and for a model that does not exist
err = client_error(transform, job_name=job_name, model_name="mistakes-model", input_path=ok_input, output_path=s3_output_data_path, env=None)
check(code_and_message(err) == ("ResourceInUse", "Job name must be unique within an AWS account and region, and a job with this name already exists "
                                f"(arn:aws:sagemaker:{REGION}:{ACCOUNT}:transform-job/{job_name})"), "duplicate job name: ResourceInUse", code_and_message(err))
err = client_error(transform, job_name="bad_name", model_name="mistakes-model", input_path=ok_input, output_path=s3_output_data_path, env=None)
check(code_and_message(err) == ("ValidationException", "1 validation error detected: Value 'bad_name' at 'transformJobName' failed to satisfy constraint: "
                                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"), "invalid job name: ValidationException naming the pattern", code_and_message(err))
err = client_error(transform, job_name="unknown-model", model_name="no-such-model", input_path=ok_input, output_path=s3_output_data_path, env=None)
check(code_and_message(err) == ("ValidationException", f'Could not find model "arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/no-such-model".'), "unknown model: ValidationException", code_and_message(err))

# InvokeEndpoint (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html):
# an unknown endpoint is a ValidationError; Body is at most 6 MB (6291456 bytes)
err = client_error(runtime.invoke_endpoint, EndpointName="no-such-endpoint", ContentType="application/json", Body=json.dumps(payload))
check(code_and_message(err) == ("ValidationError", f"Endpoint no-such-endpoint of account {ACCOUNT} not found."), "unknown endpoint: ValidationError", code_and_message(err))
big = json.dumps({"text_inputs": "x" * (6 * 1024 * 1024)})
err = client_error(runtime.invoke_endpoint, EndpointName="flan-t5-local", ContentType="application/json", Body=big)
check(err.response["ResponseMetadata"]["HTTPStatusCode"] == 413, "payload over 6 MB: 413")

print(f"conformance: {checks} checks passed", flush=True)
