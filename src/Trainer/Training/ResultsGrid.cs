using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using OpenCvSharp;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// fastai's show_results: validation samples, truth beside prediction, as one PNG. Boxes,
/// keypoints, centre and pose are drawn on the image, class names and values written on it,
/// and masks shown as an outline (head or not) or colour-coded per class (segmentation). Used by
/// `train` on the trainer's outputs and by `interpret` on ONNX Runtime's.
/// </summary>
internal sealed class ResultsGrid(ModelConfig config, Preprocessing pre, double threshold = 0.5, int pairs = 12)
{
    private readonly List<(Mat Image, Mat? Mask, HeadLabel Label)> _tiles = [];
    private readonly int _codes = config.Heads.FirstOrDefault(h => h.Kind == "mask")?.ClassNames?.Length ?? 0;

    /// <summary>Each head's output for the whole batch as one flat array, in head order.</summary>
    public static float[][] Arrays(Tensor[] outputs) => [.. outputs.Select(o => o.contiguous().data<float>().ToArray())];

    /// <summary>Adds samples of a batch until the grid is full.</summary>
    public void Add(Batch batch, float[][] outputs)
    {
        for (int i = 0; i < batch.Count && _tiles.Count < pairs * 2; i++)
        {
            Add(batch, outputs, i);
        }
    }

    /// <summary>Adds sample i of a batch (truth, then prediction).</summary>
    public void Add(Batch batch, float[][] outputs, int i, string? note = null)
    {
        Mat image = Denormalise(batch, i, pre);
        HeadLabel truth = batch.Labels[i];
        _tiles.Add((image, MaskOf(batch, i, null), truth));
        HeadLabel predicted = Predicted(config, outputs, i, batch.Size, truth, threshold);
        _tiles.Add((image.Clone(), MaskOf(batch, i, outputs), note == null ? predicted : predicted with { Image = note }));
    }

    public void Write(string path, int columns = 6)
    {
        try
        {
            ContactSheet.Write(path, _tiles, columns, maskCodes: _codes);
        }
        finally
        {
            foreach ((Mat image, Mat? mask, _) in _tiles)
            {
                image.Dispose();
                mask?.Dispose();
            }

            _tiles.Clear();
        }
    }

    /// <summary>The mask of sample i: the label's (outputs null) or the prediction's; codes per
    /// pixel for a segmentation (255 where not labelled), 0/255 for head or not; null without a mask head.</summary>
    public Mat? MaskOf(Batch b, int i, float[][]? outputs)
    {
        int h = config.Heads.FindIndex(x => x.Kind == "mask");
        if (h < 0 || (outputs == null && b.MaskWeight[i] == 0))
        {
            return null;
        }

        int s = b.Size, plane = s * s;
        var bytes = new byte[plane];
        for (int p = 0; p < plane; p++)
        {
            if (outputs == null)
            {
                float v = b.Mask[(i * plane) + p];
                bytes[p] = _codes > 0 ? (v < 0 ? (byte)255 : (byte)v) : v > 0.5f ? (byte)255 : (byte)0;
            }
            else if (_codes > 0)
            {
                bytes[p] = (byte)ArgMax(outputs[h], (i * _codes * plane) + p, _codes, plane);
            }
            else
            {
                bytes[p] = outputs[h][(i * plane) + p] > 0 ? (byte)255 : (byte)0;
            }
        }

        var mask = new Mat(s, s, MatType.CV_8UC1);
        mask.SetArray(bytes);
        return mask;
    }

    /// <summary>The index of the largest of <paramref name="count"/> values <paramref name="stride"/> apart.</summary>
    public static int ArgMax(float[] values, int start, int count, int stride = 1)
    {
        int best = 0;
        for (int c = 1; c < count; c++)
        {
            best = values[start + (c * stride)] > values[start + (best * stride)] ? c : best;
        }

        return best;
    }

    /// <summary>The model input of sample i back as BGR bytes.</summary>
    public static Mat Denormalise(Batch b, int i, Preprocessing p)
    {
        int s = b.Size, plane = s * s;
        var pixels = new byte[plane * 3];
        for (int c = 0; c < 3; c++)
        {
            for (int q = 0; q < plane; q++)
            {
                double v = ((b.Images[(i * 3 * plane) + (c * plane) + q] * p.Std[c]) + p.Mean[c]) / p.Scale;
                pixels[(q * 3) + (2 - c)] = (byte)Math.Clamp(v, 0, 255);
            }
        }

        var image = new Mat(s, s, MatType.CV_8UC3);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, image.Data, pixels.Length);
        return image;
    }

    /// <summary>A model's outputs for sample i as a label in input pixels, for drawing.</summary>
    internal static HeadLabel Predicted(ModelConfig config, float[][] outputs, int i, int s, HeadLabel truth, double threshold = 0.5)
    {
        var l = new HeadLabel { Image = "prediction", Width = s, Height = s, Intrinsics = truth.Intrinsics };
        for (int h = 0; h < config.Heads.Count; h++)
        {
            HeadConfig head = config.Heads[h];
            int per = PerSample(head, outputs[h], s);
            float[] o = outputs[h].AsSpan(i * per, per).ToArray();
            double Px(float v) => (v + 1) * s / 2.0;
            l = head.Kind switch
            {
                "center" => l with { Center = [Px(o[0]), Px(o[1])] },
                "keypoints" => l with { Keypoints = [.. Enumerable.Range(0, o.Length / 2).Select(k => new[] { Px(o[k * 2]), Px(o[(k * 2) + 1]), 1.0 })] },
                "box" => l with { Box = [o[0] * s, o[1] * s, o[2] * s, o[3] * s] },
                "pose" => PoseOf(l, o, truth),
                "class" when head.MultiLabel => l with { Classes = [.. head.ClassNames!.Where((_, c) => 1 / (1 + Math.Exp(-o[c])) > threshold)] },
                "class" => l with { Classes = [head.ClassNames![ArgMax(o, 0, per)]] },
                "value" => l with { Values = [.. o.Select(v => (double)v)] },
                _ => l,
            };
        }

        return l.Center == null && truth.Center != null ? l with { Center = truth.Center } : l;
    }

    /// <summary>Numbers per sample in a head's output.</summary>
    private static int PerSample(HeadConfig head, float[] o, int s) => head.Kind switch
    {
        "center" => 2,
        "keypoints" => 2 * (head.KeypointNames?.Length ?? 6),
        "box" => 5,
        "pose" => 9,
        "class" => head.ClassNames!.Length,
        "value" => head.ValueNames!.Length,
        "mask" => (head.ClassNames?.Length ?? 1) * s * s,
        _ => o.Length,
    };

    private static HeadLabel PoseOf(HeadLabel l, float[] r, HeadLabel truth)
    {
        (double yaw, double pitch, double roll) = Rotation.ToEuler(r);
        return l with { Pose = new PoseLabel(yaw, pitch, roll, [.. r.Select(v => (double)v)], truth.Pose?.Translation) };
    }

    /// <summary>A value for a caption: few digits.</summary>
    internal static string Short(double v) => v.ToString(Math.Abs(v) >= 100 ? "F0" : "G3", CultureInfo.InvariantCulture);
}
