using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Inference;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Training;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Tests;

/// <summary>
/// Train/serve drift: the same odd-sized frame prepared by the trainer (its validation batches,
/// which eval and the heads' training share) and by the runtime (<see cref="HeadModel"/>: its
/// letterbox, ONNX Runtime, its decoders) must give the same input, the same outputs and the same
/// head positions in frame pixels.
/// Tolerances: inputs within 0.5 grey level (OpenCV's INTER_AREA rounds to 8 bits, the runtime's
/// shrink does not); outputs within 0.03 (what that difference moves a random-headed model by:
/// measured worst 0.012, a pose value at 640x361; 0.0015 for points); decoded points within 0.5
/// frame pixel of the contract's mapping of the trainer's outputs.
/// </summary>
public sealed class TrainServeParityTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("train-serve");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(203, 157)] // landscape, odd both ways: padded top and bottom
    [InlineData(121, 250)] // portrait: padded left and right
    [InlineData(640, 361)] // a camera frame cut to an odd height
    [InlineData(97, 77)] // smaller than the input: enlarged
    public void Trainer_and_runtime_see_and_say_the_same_on_an_odd_sized_frame(int width, int height)
    {
        torch.manual_seed(11);
        var config = new ModelConfig
        {
            Backbone = "blazeface",
            Heads = [new() { Kind = "center" }, new() { Kind = "keypoints" }, new() { Kind = "box" }, new() { Kind = "pose" }, new() { Kind = "mask", Width = 8, Stride = 4 }],
        };
        using var net = new MultiHeadNet(config);
        PretrainedBackbone.Load(net, Repo.BlazeFaceFront);
        net.eval();
        string onnx = Path.Combine(_dir, $"model-{width}x{height}.onnx");
        OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions()), onnx);

        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample2.jpg"));
        using Mat frame = photo.Resize(new OpenCvSharp.Size(width, height), 0, 0, InterpolationFlags.Area);

        // The trainer: a validation batch of this one frame (no augmentation), TorchSharp's forward.
        var item = new DataItem(new HeadLabel { Image = "frame", Width = width, Height = height }, null, () => frame.Clone());
        var batcher = new Batcher([item], config, net.Backbone.Preprocessing, []);
        Batch batch = batcher.Build([0], AugmentOptions.None, seed: 0);
        float[][] trained;
        using (NewDisposeScope())
        using (no_grad())
        {
            Tensor[] outputs = net.forward(tensor(batch.Images, [1, 3, batch.Size, batch.Size]));
            trained = [.. outputs.Select(o => o.contiguous().data<float>().ToArray())];
        }

        // The runtime.
        using var model = new HeadModel(onnx);
        var decoded = new HeadOutputs();
        model.Run(frame, decoded);

        float grey = 0.5f * net.Backbone.Preprocessing.Scale / net.Backbone.Preprocessing.Std.Min();
        float inputWorst = MaxDifference(batch.Images, model.LastInput);
        Assert.True(inputWorst <= grey + 1e-6f, $"{width}x{height}: inputs differ by {inputWorst} (0.5 grey level is {grey})");
        string[] over = [.. Enumerable.Range(0, trained.Length)
            .Select(h => (Name: model.Manifest.Outputs[h].Name, Worst: MaxDifference(trained[h], model.LastOutput(h))))
            .Where(o => o.Worst > 0.03f)
            .Select(o => $"'{o.Name}' by {o.Worst}")];
        Assert.True(over.Length == 0, $"{width}x{height}: outputs differ: {string.Join(", ", over)}");

        // Decoded in frame pixels: the contract's mapping of the trainer's outputs.
        InputTransform.Fitted fit = InputTransform.Fit(width, height, batch.Size, batch.Size);
        (double X, double Y) Frame(float u, float v) =>
            ((((u + 1) / 2 * batch.Size) - fit.PadX) / fit.ScaleX, (((v + 1) / 2 * batch.Size) - fit.PadY) / fit.ScaleY);
        (double cx, double cy) = Frame(trained[0][0], trained[0][1]);
        Assert.InRange(Math.Abs(cx - decoded.CenterX) + Math.Abs(cy - decoded.CenterY), 0, 0.5);
        for (int k = 0; k < 6; k++)
        {
            (double kx, double ky) = Frame(trained[1][2 * k], trained[1][(2 * k) + 1]);
            Assert.InRange(Math.Abs(kx - decoded.Keypoints[2 * k]) + Math.Abs(ky - decoded.Keypoints[(2 * k) + 1]), 0, 0.5);
        }

        double boxX0 = ((trained[2][0] * batch.Size) - fit.PadX) / fit.ScaleX, boxY1 = ((trained[2][3] * batch.Size) - fit.PadY) / fit.ScaleY;
        Assert.InRange(Math.Abs(boxX0 - decoded.Box[0]) + Math.Abs(boxY1 - decoded.Box[3]), 0, 0.5);
    }

    private static float MaxDifference(float[] a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            worst = MathF.Max(worst, MathF.Abs(a[i] - b[i]));
        }

        return worst;
    }
}
