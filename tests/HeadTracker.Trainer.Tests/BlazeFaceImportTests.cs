using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Preprocessing;
using HeadTracking.Tests;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

public class BlazeFaceImportTests
{
    [Theory]
    [InlineData("sample3.jpg")]
    [InlineData("sample6.jpg")]
    public void Imported_blazeface_matches_the_original_model_in_onnx_runtime_on_a_real_photo(string photoName)
    {
        using var net = new BlazeFaceNet();
        ImportReport report = OnnxWeights.Load(net, Repo.BlazeFaceFront, BlazeFaceWeights.NameMap(), strict: true);
        Assert.True(report.IsComplete, report.ToString());
        Assert.Equal(58, report.Matched.Count); // stem 2 + 16 depthwise + 32 pointwise + 8 head tensors
        net.eval();

        float[] nhwc = new float[128 * 128 * 3];
        using (Mat photo = Cv2.ImRead(Repo.Fetched("faces/" + photoName)))
        using (var letterbox = new Letterbox(128, 128, 1f / 127.5f, -1f))
        {
            letterbox.Run(photo, nhwc);
        }

        float[][] expected = RunOriginal(nhwc);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor input = tensor(nhwc, [1, 128, 128, 3]).permute(0, 3, 1, 2).contiguous();
        Tensor[] outputs = net.forward(input);

        Assert.Equal(4, outputs.Length);
        for (int i = 0; i < 4; i++)
        {
            float[] actual = outputs[i].data<float>().ToArray();
            Assert.Equal(expected[i].Length, actual.Length);
            // 1e-4, relative where a value exceeds 1 in size: logits and regressor values reach the
            // hundreds (measured: up to 455), where the two runtimes' different summation orders
            // differ by a few float32 steps of 3e-5 each.
            float worst = expected[i].Zip(actual, (a, b) => MathF.Abs(a - b) / MathF.Max(1f, MathF.Abs(a))).Max();
            Assert.True(worst <= 1e-4f, $"output {i}: max |TorchSharp - ONNX Runtime| / max(1, |value|) = {worst}; largest |value| {expected[i].Max(MathF.Abs)}");
        }

        // The photo has faces: the comparison is on a meaningful signal, not on zeros.
        Assert.True(expected[0].Concat(expected[1]).Max() > 0f, "no anchor scored above 0.5 on a photo of faces");
    }

    [Fact]
    public void Strict_import_names_the_missing_and_mismatched_tensors_and_changes_nothing()
    {
        using var net = new BlazeFaceNet();
        Dictionary<string, string> map = BlazeFaceWeights.NameMap();
        map["classifier8.weight"] = map["regressor8.weight"]; // wrong shape: [32,88,1,1] into [2,88,1,1]
        map.Remove("classifier8.bias");
        float before = net.state_dict()["backbone.stem.weight"].sum().item<float>();

        var e = Assert.Throws<System.IO.InvalidDataException>(() => OnnxWeights.Load(net, Repo.BlazeFaceFront, map, strict: true));
        Assert.Contains(Repo.BlazeFaceFront, e.Message, StringComparison.Ordinal);
        Assert.Contains("classifier8.weight: module [2,88,1,1]", e.Message, StringComparison.Ordinal);
        Assert.Contains("classifier8.bias: not in the file", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, net.state_dict()["backbone.stem.weight"].sum().item<float>());

        ImportReport lenient = OnnxWeights.Load(net, Repo.BlazeFaceFront, map, strict: false);
        Assert.Equal(56, lenient.Matched.Count);
        Assert.Single(lenient.Missing);
        Assert.Single(lenient.ShapeMismatched);
        Assert.NotEqual(before, net.state_dict()["backbone.stem.weight"].sum().item<float>());
    }

    private static float[][] RunOriginal(float[] nhwc)
    {
        using var session = new InferenceSession(Repo.BlazeFaceFront);
        var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(nhwc, [1, 128, 128, 3]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), input)]);
        var byName = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
        return [byName["Identity:0"], byName["Identity_1:0"], byName["Identity_2:0"], byName["Identity_3:0"]];
    }
}
