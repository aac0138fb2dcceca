using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Tests;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Teachers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

/// <summary>
/// The TF.js graph-model importer against TensorFlow.js itself: the same model.json and the same
/// real-photo input go through TF.js's CPU kernels on node (tools/tfjs-reference, installed by the
/// set-up), through the imported TorchSharp module, and through our ONNX export in ONNX Runtime.
/// </summary>
public class TfjsImportTests
{
    [Theory]
    [InlineData("facemesh.json", "sample6.jpg")]
    [InlineData("iris.json", "sample2.jpg")]
    public void Imported_graph_model_matches_tensorflow_js_in_torchsharp_and_in_onnx_runtime(string model, string photo)
    {
        string modelJson = Repo.Fetched(Path.Combine("face-landmarks", model));
        using var net = TfjsGraphNet.Load(modelJson);
        net.eval();
        long[] shape = [1, .. net.InputShape.Skip(1)];
        float[] input = PhotoInput(Repo.Fetched("faces/" + photo), (int)shape[1], (int)shape[2]);

        string dir = Repo.NewTempDir("tfjs");
        float[][] expected = RunTfjs(modelJson, input, shape, dir);
        Assert.Equal(net.OutputNames.Length, expected.Length);

        float[][] torchOut;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            torchOut = [.. net.forward(tensor(input, shape)).Select(t => t.contiguous().data<float>().ToArray())];
        }

        string onnx = Path.Combine(dir, "model.onnx");
        OnnxFile.Save(OnnxExporter.Build(net, net.InputShape, net.OutputNames, new OnnxExportOptions()), onnx);
        float[][] ortOut = RunOnnx(onnx, net.OutputNames, input, shape);

        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].Length > 0 && expected[i].Any(v => v != 0), $"output {net.OutputNames[i]}: the reference is empty or all zero");
            // 1e-4 relative where a value exceeds 1 in size (mesh coordinates reach 192 pixels):
            // TF.js sums in another order than TorchSharp and ONNX Runtime, a few float32 steps.
            Assert.True(Worst(expected[i], torchOut[i]) <= 1e-4f, $"{model} output {net.OutputNames[i]}: TorchSharp vs TF.js worst relative error {Worst(expected[i], torchOut[i])}");
            Assert.True(Worst(expected[i], ortOut[i]) <= 1e-4f, $"{model} output {net.OutputNames[i]}: ONNX Runtime vs TF.js worst relative error {Worst(expected[i], ortOut[i])}");
        }
    }

    [Fact]
    public void An_unsupported_op_is_refused_with_its_name_and_node()
    {
        string dir = Repo.NewTempDir("tfjs-bad");
        string json = Path.Combine(dir, "model.json");
        File.WriteAllText(json, """
            {"format": "graph-model", "modelTopology": {"node": [
              {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "-1"}, {"size": "4"}]}}}},
              {"name": "angle", "op": "Atan2", "input": ["x", "x"]},
              {"name": "Identity", "op": "Identity", "input": ["angle"]}]},
             "signature": {"outputs": {"out": {"name": "Identity:0"}}},
             "weightsManifest": [{"paths": [], "weights": []}]}
            """);
        var e = Assert.Throws<NotSupportedException>(() => TfjsGraphNet.Load(json));
        Assert.Contains("'angle' is a Atan2", e.Message);
        Assert.Contains(json, e.Message);
    }

    [Fact]
    public void A_truncated_weight_shard_names_the_weight_and_the_file()
    {
        string dir = Repo.NewTempDir("tfjs-short");
        string json = Path.Combine(dir, "model.json");
        File.WriteAllBytes(Path.Combine(dir, "w.bin"), new byte[10]);
        File.WriteAllText(json, """
            {"format": "graph-model", "modelTopology": {"node": [
              {"name": "x", "op": "Placeholder"}, {"name": "k", "op": "Const"},
              {"name": "Identity", "op": "Mul", "input": ["x", "k"]}]},
             "signature": {"outputs": {"out": {"name": "Identity:0"}}},
             "weightsManifest": [{"paths": ["w.bin"], "weights": [{"name": "k", "shape": [4], "dtype": "float32", "quantization": {"dtype": "float16"}}, {"name": "k2", "shape": [4], "dtype": "float32"}]}]}
            """);
        var e = Assert.Throws<InvalidDataException>(() => TfjsGraph.Load(json));
        Assert.Contains("weight 'k2'", e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains(json, e.Message);
    }

    /// <summary>The photo's centre square resized to the model's input, RGB in [0, 1] (what
    /// MediaPipe's landmark models take), NHWC.</summary>
    private static float[] PhotoInput(string path, int h, int w)
    {
        using Mat photo = Cv2.ImRead(path);
        int side = Math.Min(photo.Width, photo.Height);
        using Mat square = new Mat(photo, new Rect((photo.Width - side) / 2, (photo.Height - side) / 2, side, side));
        using Mat small = square.Resize(new OpenCvSharp.Size(w, h), 0, 0, InterpolationFlags.Area);
        using Mat rgb = small.CvtColor(ColorConversionCodes.BGR2RGB);
        rgb.GetArray(out Vec3b[] pixels);
        return [.. pixels.SelectMany(p => new[] { p.Item0 / 255f, p.Item1 / 255f, p.Item2 / 255f })];
    }

    private static float[][] RunTfjs(string modelJson, float[] input, long[] shape, string dir)
    {
        string inputFile = Path.Combine(dir, "input.f32");
        File.WriteAllBytes(inputFile, System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
        string outDir = Path.Combine(dir, "tfjs");
        string script = Repo.Fetched(Path.Combine("tfjs-reference", "reference.js"));
        Processes.Result r = Processes.Run("node", [script, modelJson, inputFile, string.Join(",", shape), outDir]);
        Assert.True(r.ExitCode == 0, $"node reference.js failed ({r.ExitCode}): {r.All}");
        using JsonDocument meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "outputs.json")));
        return [.. Enumerable.Range(0, meta.RootElement.GetArrayLength())
            .Select(i => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(outDir, $"{i}.f32"))).ToArray())];
    }

    private static float[][] RunOnnx(string path, string[] outputs, float[] input, long[] shape)
    {
        using var session = new InferenceSession(path);
        string inputName = session.InputMetadata.Keys.Single();
        var tensorIn = new DenseTensor<float>(input, [.. shape.Select(d => (int)d)]);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensorIn)]);
        return [.. outputs.Select(o => results.Single(r => r.Name == o).AsEnumerable<float>().ToArray())];
    }

    private static float Worst(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        return expected.Zip(actual, (a, b) => MathF.Abs(a - b) / MathF.Max(1f, MathF.Abs(a))).Max();
    }
}
