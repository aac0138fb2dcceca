using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Models;
using HeadTracking.Tests;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

/// <summary>
/// Every backbone with every head, random weights and inputs: the exported file in ONNX Runtime
/// agrees with TorchSharp's forward. Tolerance: |a - b| / max(1, |a|) ≤ 1e-4 (1e-3 with BatchNorm
/// folded): absolute for values up to 1, relative above, where float32 steps grow.
/// </summary>
public class ExportParityTests
{
    /// <param name="lean">The other variants instead: the centre by soft-argmax over heat maps,
    /// keypoints by BlazeFace's anchors (as the default model), the pose by anchors with two blocks of its own on each map, and a mask decoded to stride 4 and
    /// upsampled bilinearly (as the default model).</param>
    internal static ModelConfig AllHeads(string backbone, int size, bool lean = false) => new()
    {
        Name = $"parity-{backbone}",
        Backbone = backbone,
        InputSize = size,
        Heads =
        [
            new() { Kind = "center", Locator = lean ? "heatmap" : null },
            new() { Kind = "keypoints", YRange = [-1.5f, 1.5f], Locator = lean ? "anchor" : null },
            new() { Kind = "box" },
            new() { Kind = "pose", Locator = lean ? "anchor" : null, Frame = lean ? "ray" : null, Blocks = lean ? 2 : null },
            new() { Kind = "class", ClassNames = ["a", "b", "c"] },
            new() { Kind = "class", Name = "labels", ClassNames = ["x", "y"], MultiLabel = true },
            new() { Kind = "mask", Width = 16, Stride = lean ? 4 : null },
        ],
    };

    public static TheoryData<string, int, bool, bool> Cases => new()
    {
        { "blazeface", 128, false, false }, { "blazeface", 128, true, false },
        { "resnet18", 64, false, false }, { "resnet18", 64, true, false },
        { "resnet34", 64, false, false }, { "resnet34", 64, true, false },
        { "mobilenetv2", 64, false, false }, { "mobilenetv2", 64, true, false },
        { "blazeface", 128, false, true }, { "blazeface", 128, true, true }, { "resnet18", 64, true, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Export_agrees_with_TorchSharp_in_onnx_runtime(string backbone, int size, bool foldBn, bool lean)
    {
        torch.manual_seed(42);
        using var net = new MultiHeadNet(AllHeads(backbone, size, lean));
        Randomize(net);
        net.eval();

        string dir = Repo.NewTempDir("parity");
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions { FoldBatchNorm = foldBn }), path);

            foreach (int batch in new[] { 2, 1 })
            {
                float[] input = RandomInput(batch, size, seed: batch);
                Dictionary<string, float[]> expected = TorchOutputs(net, input, batch, size);
                Dictionary<string, float[]> actual = OrtOutputs(path, input, [batch, 3, size, size]);
                AssertClose(expected, actual, foldBn ? 1e-3f : 1e-4f, $"{backbone}, batch {batch}, fold {foldBn}, lean {lean}");
            }

            if (foldBn)
            {
                Assert.DoesNotContain(OnnxFile.Load(path).Graph.Node, n => n.OpType == "BatchNormalization");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Exported_model_carries_its_manifest_and_a_dynamic_batch()
    {
        using var net = new MultiHeadNet(AllHeads("blazeface", 128));
        var model = OnnxExporter.Build(net, new OnnxExportOptions(), training: new() { ["epochs"] = "3" }, metrics: new() { ["center_mse"] = 1e-4 });

        Assert.Equal(8, model.IrVersion);
        Assert.Equal(17, model.OpsetImport.Single().Version);
        Assert.Equal("batch", model.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam);
        ModelManifest manifest = ModelManifest.FromJson(model.MetadataProps.Single(p => p.Key == ModelManifest.MetadataKey).Value);
        Assert.Equal(new long[] { -1, 3, 128, 128 }, manifest.Input.Shape);
        Assert.Equal([0.5f, 0.5f, 0.5f], manifest.Input.Std);
        Assert.Equal(["center", "keypoints", "box", "pose", "class", "labels", "mask"], manifest.Outputs.Select(o => o.Name));
        Assert.Equal(["point", "keypoints", "box", "pose", "class", "class", "mask"], manifest.Outputs.Select(o => o.Kind));
        Assert.Equal(["right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear"], manifest.Outputs[1].KeypointNames!);
        Assert.Equal(new long[] { -1, 6, 2 }, manifest.Outputs[1].Shape);
        Assert.Equal([-1.5f, 1.5f], manifest.Outputs[1].Range!);
        Assert.True(manifest.Outputs[5].MultiLabel);
        Assert.Equal("rotation_matrix", manifest.Outputs[3].Representation);
        Assert.Equal(new long[] { -1, 1, 128, 128 }, manifest.Outputs[6].Shape);
        Assert.Equal("3", manifest.Training!["epochs"]);
        Assert.Equal(1e-4, manifest.Metrics!["center_mse"]);
        Assert.Equal("blazeface+center+keypoints+box+pose+class+class+mask", manifest.Architecture);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Round_trip_through_onnx_gives_a_fresh_module_the_identical_forward(bool lean)
    {
        torch.manual_seed(7);
        using var net = new MultiHeadNet(AllHeads("resnet18", 64, lean));
        Randomize(net);
        net.eval();
        string dir = Repo.NewTempDir("roundtrip");
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions()), path);

            torch.manual_seed(8); // different random init
            using var fresh = new MultiHeadNet(AllHeads("resnet18", 64, lean));
            ImportReport report = OnnxWeights.Load(fresh, path, strict: true);
            Assert.True(report.IsComplete, report.ToString());
            Assert.Equal(fresh.state_dict().Keys.Count(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)), report.Matched.Count);
            fresh.eval();

            float[] input = RandomInput(2, 64, seed: 3);
            Dictionary<string, float[]> a = TorchOutputs(net, input, 2, 64), b = TorchOutputs(fresh, input, 2, 64);
            foreach (string name in a.Keys)
            {
                Assert.Equal(a[name], b[name]);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Random weights, and BatchNorm statistics far from the identity so folding matters.</summary>
    internal static void Randomize(nn.Module net)
    {
        using var noGrad = no_grad();
        foreach (nn.Module m in net.modules())
        {
            if (m is BatchNorm2d bn)
            {
                bn.running_mean!.normal_(0, 0.2);
                bn.running_var!.uniform_(0.5, 1.5);
                bn.weight!.uniform_(0.5, 1.5);
                bn.bias!.normal_(0, 0.2);
            }
        }
    }

    internal static float[] RandomInput(int batch, int size, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, batch * 3 * size * size).Select(_ => (float)((rng.NextDouble() * 4) - 2))];
    }

    internal static Dictionary<string, float[]> TorchOutputs(MultiHeadNet net, float[] input, int batch, int size)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor[] outputs = net.forward(tensor(input, [batch, 3, size, size]));
        return net.Heads.Select((h, i) => (h.OutputName, outputs[i].contiguous().data<float>().ToArray())).ToDictionary(p => p.OutputName, p => p.Item2);
    }

    internal static Dictionary<string, float[]> OrtOutputs(string path, float[] input, int[] shape)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(path, options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(input, shape))]);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    internal static void AssertClose(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, float tolerance, string what)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach ((string name, float[] e) in expected)
        {
            float[] a = actual[name];
            Assert.Equal(e.Length, a.Length);
            Assert.All(a, v => Assert.True(float.IsFinite(v), $"{what}: {name} has a non-finite value"));
            float worst = e.Zip(a, (x, y) => MathF.Abs(x - y) / MathF.Max(1f, MathF.Abs(x))).Max();
            Assert.True(worst <= tolerance, $"{what}: output '{name}' differs by {worst} (tolerance {tolerance})");
        }
    }
}
