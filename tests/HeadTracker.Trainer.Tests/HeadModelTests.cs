using System;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Inference;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Training;
using OpenCvSharp;
using TorchSharp;

namespace HeadTracking.Trainer.Tests;

/// <summary>The runtime's model runner on files the trainer exported: preprocessing from the
/// manifest, decoding of every head, no allocation per frame.</summary>
public sealed class HeadModelTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("head-model");
    private readonly string _onnx;
    private readonly MultiHeadNet _net;

    public HeadModelTests()
    {
        torch.manual_seed(4);
        _net = new MultiHeadNet(new ModelConfig { Backbone = "blazeface", Heads = [.. new[] { "center", "keypoints", "box", "pose", "mask" }.Select(k => new HeadConfig { Kind = k })] });
        PretrainedBackbone.Load(_net, Repo.BlazeFaceFront);
        ExportParityTests.Randomize(_net);
        _net.eval();
        _onnx = Path.Combine(_dir, "model.onnx");
        OnnxFile.Save(OnnxExporter.Build(_net, new OnnxExportOptions { FoldBatchNorm = true }), _onnx);
    }

    public void Dispose()
    {
        _net.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Decoded_heads_match_the_trainer_on_the_same_frame()
    {
        // A frame already at the model's size: the runtime's resize and the trainer's warp are
        // both the identity, so both see the same pixels.
        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample2.jpg"));
        using Mat frame = new Mat(photo, new Rect(1380, 120, 360, 360)).Resize(new Size(128, 128), 0, 0, InterpolationFlags.Area);
        string framePath = Path.Combine(_dir, "frame.png");
        Cv2.ImWrite(framePath, frame);

        using var model = new HeadModel(_onnx);
        var result = new HeadOutputs();
        model.Run(frame, result);

        var item = new DataItem(new HeadLabel { Image = framePath, Width = 128, Height = 128 }, framePath);
        Batch batch = new Batcher([item], _net.Config, _net.Backbone.Preprocessing, []).Build([0], AugmentOptions.None, 0);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        torch.Tensor[] o = _net.forward(torch.tensor(batch.Images, [1, 3, 128, 128]));
        float[] center = o[0].data<float>().ToArray(), keypoints = o[1].data<float>().ToArray(), box = o[2].data<float>().ToArray(), rotation = o[3].data<float>().ToArray();

        Assert.True(result.HasCenter && result.HasBox && result.HasPose);
        Assert.Equal((center[0] + 1) * 64, result.CenterX, 0.05);
        Assert.Equal((center[1] + 1) * 64, result.CenterY, 0.05);
        Assert.Equal(12, result.Keypoints.Length);
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal((keypoints[i] + 1) * 64, result.Keypoints[i], 0.05);
        }

        Assert.Equal(box[2] * 128, result.Box[2], 0.05);
        Assert.Equal(1 / (1 + Math.Exp(-box[4])), result.Score, 1e-3);
        (double yaw, double pitch, double roll) = Runtime.Pose.Rotation.ToEuler(rotation.AsSpan());
        Assert.Equal(yaw, result.Yaw, 0.05);
        Assert.Equal(pitch, result.Pitch, 0.05);
        Assert.Equal(roll, result.Roll, 0.05);
        Assert.Equal(128 * 128, result.Mask.Length);
    }

    [Fact]
    public void Letterboxed_frames_map_back_to_frame_pixels_and_allocate_nothing()
    {
        using var model = new HeadModel(_onnx);
        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample2.jpg"));
        var result = new HeadOutputs();
        for (int i = 0; i < 3; i++)
        {
            model.Run(photo, result);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            model.Run(photo, result);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        // Expected: the raw outputs of ONNX Runtime on an independently letterboxed input, mapped
        // back through the letterbox (the 1920x1367 photo is scaled by 1/15 and padded 7.8 above).
        var m = model.Manifest.Input;
        using var letterbox = new Runtime.Preprocessing.Letterbox(128, 128, m.Scale, m.Mean, m.Std, planar: true);
        float[] input = new float[3 * 128 * 128];
        letterbox.Run(photo, input);
        var raw = ExportParityTests.OrtOutputs(_onnx, input, [1, 3, 128, 128]);
        Assert.True(letterbox.PadY > 5 && letterbox.ScaleX < 0.07f);
        Assert.Equal(letterbox.ToFrameX((raw["center"][0] + 1) * 64), result.CenterX, 1e-2);
        Assert.Equal(letterbox.ToFrameY((raw["center"][1] + 1) * 64), result.CenterY, 1e-2);
        Assert.Equal(letterbox.ToFrameY((raw["keypoints"][5] + 1) * 64), result.Keypoints[5], 1e-2);
        Assert.Equal(letterbox.ToFrameY(raw["box"][3] * 128), result.Box[3], 1e-2);
    }

    [Fact]
    public void A_model_without_a_manifest_is_refused_with_its_path()
    {
        var e = Assert.Throws<InvalidDataException>(() => new HeadModel(Repo.BlazeFaceFront));
        Assert.Contains(Repo.BlazeFaceFront, e.Message, StringComparison.Ordinal);
        Assert.Contains("no 'headtracker.manifest' metadata", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resize", "input.resize is 'stretch'")]
    [InlineData("box-activation", "'box' (box): activation 'softmax'")]
    [InlineData("pose-representation", "representation 'quaternion'")]
    [InlineData("box-coordinates", "'box' (box): coordinates 'pixels'")]
    public void A_manifest_the_decoders_would_not_honour_is_refused_naming_the_field(string change, string expected)
    {
        Onnx.Proto.ModelProto proto = OnnxFile.Load(_onnx);
        var entry = proto.MetadataProps.Single(kv => kv.Key == Runtime.Models.ModelManifest.MetadataKey);
        var manifest = Runtime.Models.ModelManifest.FromJson(entry.Value);
        Runtime.Models.ManifestOutput Output(string kind) => manifest.Outputs.Single(o => o.Kind == kind);
        switch (change)
        {
            case "resize": manifest.Input.Resize = "stretch"; break;
            case "box-activation": Output("box").Activation = "softmax"; break;
            case "pose-representation": Output("pose").Representation = "quaternion"; break;
            case "box-coordinates": Output("box").Coordinates = "pixels"; break;
        }

        entry.Value = manifest.ToJson();
        string path = Path.Combine(_dir, $"{change}.onnx");
        OnnxFile.Save(proto, path);

        var e = Assert.Throws<InvalidDataException>(() => new HeadModel(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        using var untouched = new HeadModel(_onnx); // the exporter's own manifest passes
    }

    [Fact]
    public void A_mask_of_several_classes_is_decoded_as_not_the_background()
    {
        torch.manual_seed(5);
        using var net = new MultiHeadNet(new ModelConfig
        {
            Backbone = "blazeface",
            Heads = [new HeadConfig { Kind = "center" }, new HeadConfig { Kind = "mask", ClassNames = ["background", "face", "hair"] }],
        });
        // Freshly initialised (not randomised as the parity tests do, whose large biases let one
        // class win every pixel): the features decide, so both answers occur.
        net.eval();
        string path = Path.Combine(_dir, "classes.onnx");
        OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions()), path);

        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample2.jpg"));
        using Mat frame = new Mat(photo, new Rect(1380, 120, 360, 360)).Resize(new Size(128, 128), 0, 0, InterpolationFlags.Area);
        using var model = new HeadModel(path);
        var result = new HeadOutputs();
        model.Run(frame, result);

        var m = model.Manifest.Input;
        using var letterbox = new Runtime.Preprocessing.Letterbox(128, 128, m.Scale, m.Mean, m.Std, planar: true);
        float[] input = new float[3 * 128 * 128];
        letterbox.Run(frame, input);
        float[] logits = ExportParityTests.OrtOutputs(path, input, [1, 3, 128, 128])["mask"];
        const int Plane = 128 * 128;
        Assert.Equal(3 * Plane, logits.Length);
        Assert.Equal(Plane, result.Mask.Length);
        int head = 0;
        for (int i = 0; i < Plane; i++)
        {
            bool expected = Math.Max(logits[Plane + i], logits[(2 * Plane) + i]) > logits[i];
            Assert.Equal(expected ? 255 : 0, result.Mask[i]);
            head += expected ? 1 : 0;
        }

        Assert.True(head > 0 && head < Plane, $"{head} of {Plane} pixels not background: the comparison was not exercised both ways");
    }
}
