using System;
using System.IO;
using System.Linq;
using HeadTracking.Tests;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Tests;

/// <summary>Bad files and bad modules: each is an exception naming the file and the tensor or
/// layer, never a crash.</summary>
public sealed class OnnxBadInputTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("onnx-bad");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Exported(ModelConfig config, string name)
    {
        using var net = new MultiHeadNet(config);
        string path = Path.Combine(_dir, name);
        OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions()), path);
        return path;
    }

    private static ModelConfig Config(params HeadConfig[] heads) => new() { Backbone = "blazeface", Heads = [.. heads] };

    [Fact]
    public void Truncated_file_is_named()
    {
        string path = Exported(Config(new HeadConfig { Kind = "center" }), "full.onnx");
        byte[] bytes = File.ReadAllBytes(path);
        string truncated = Path.Combine(_dir, "truncated.onnx");
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());

        var e = Assert.Throws<InvalidDataException>(() => OnnxWeights.Read(truncated));
        Assert.Contains(truncated, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_that_is_not_onnx_is_named()
    {
        string jpeg = Repo.Fetched("faces/sample1.jpg");
        var e = Assert.Throws<InvalidDataException>(() => OnnxFile.Load(jpeg));
        Assert.Contains(jpeg, e.Message, StringComparison.Ordinal);

        string text = Path.Combine(_dir, "notes.onnx");
        File.WriteAllText(text, "this is not a model");
        e = Assert.Throws<InvalidDataException>(() => OnnxFile.Load(text));
        Assert.Contains(text, e.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<FileNotFoundException>(() => OnnxFile.Load(Path.Combine(_dir, "absent.onnx")));
        Assert.Contains("absent.onnx", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_initializer_is_named_in_strict_mode()
    {
        string path = Exported(Config(new HeadConfig { Kind = "center" }), "center-only.onnx");
        using var net = new MultiHeadNet(Config(new HeadConfig { Kind = "center" }, new HeadConfig { Kind = "box" }));
        var e = Assert.Throws<InvalidDataException>(() => OnnxWeights.Load(net, path, strict: true));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("heads.box.output.weight: not in the file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_shape_is_named_with_both_shapes()
    {
        string path = Exported(Config(new HeadConfig { Kind = "keypoints" }), "six-points.onnx");
        using var net = new MultiHeadNet(Config(new HeadConfig { Kind = "keypoints", KeypointNames = ["a", "b", "c", "d", "e"] }));
        var e = Assert.Throws<InvalidDataException>(() => OnnxWeights.Load(net, path, strict: true));
        Assert.Contains("heads.keypoints.output.weight: module [10,128], file 'heads.keypoints.output.weight' [12,128]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_layer_type_is_named_with_its_path()
    {
        using var model = Sequential(("features", Sequential(("0", Conv2d(3, 4, 3)), ("1", GELU()))), ("head", Flatten()));
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Build(model, [-1, 3, 8, 8], ["out"], new OnnxExportOptions()));
        Assert.Contains("'features.1'", e.Message, StringComparison.Ordinal);
        Assert.Contains("GELU", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensor_data_that_does_not_fit_its_shape_is_named()
    {
        string path = Exported(Config(new HeadConfig { Kind = "center" }), "model.onnx");
        var model = OnnxFile.Load(path);
        var victim = model.Graph.Initializer.First(t => t.Name == "heads.center.output.bias");
        victim.RawData = Google.Protobuf.ByteString.CopyFrom(new byte[3]);
        string broken = Path.Combine(_dir, "broken.onnx");
        OnnxFile.Save(model, broken);

        var e = Assert.Throws<InvalidDataException>(() => OnnxWeights.Read(broken));
        Assert.Contains(broken, e.Message, StringComparison.Ordinal);
        Assert.Contains("heads.center.output.bias", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_replaces_the_file_whole_and_leaves_no_temporary_files()
    {
        string path = Exported(Config(new HeadConfig { Kind = "center" }), "model.onnx");
        long first = new FileInfo(path).Length;
        path = Exported(Config(new HeadConfig { Kind = "center" }, new HeadConfig { Kind = "box" }), "model.onnx");
        Assert.True(new FileInfo(path).Length > first);
        Assert.Equal(["model.onnx"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }
}
