using System;
using System.Buffers;
using System.IO;
using System.Text.Json;

namespace HeadTracking.Runtime.Output;

/// <summary>
/// Writes one JSON line per frame (frame, time, valid, score, centre, box, keypoints, raw and
/// filtered pose) to a file, reusing its buffers, so recording does not allocate per frame. Use
/// from the worker thread only.
/// </summary>
internal sealed class ResultRecorder : IDisposable
{
    private static readonly JsonEncodedText s_frame = JsonEncodedText.Encode("frame"), s_time = JsonEncodedText.Encode("time"),
        s_valid = JsonEncodedText.Encode("valid"), s_score = JsonEncodedText.Encode("score"), s_center = JsonEncodedText.Encode("center"),
        s_box = JsonEncodedText.Encode("box"), s_keypoints = JsonEncodedText.Encode("keypoints"), s_raw = JsonEncodedText.Encode("raw"),
        s_filtered = JsonEncodedText.Encode("filtered"), s_x = JsonEncodedText.Encode("x"), s_y = JsonEncodedText.Encode("y"),
        s_z = JsonEncodedText.Encode("z"), s_yaw = JsonEncodedText.Encode("yaw"), s_pitch = JsonEncodedText.Encode("pitch"), s_roll = JsonEncodedText.Encode("roll");

    private readonly FileStream _file;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json;

    /// <exception cref="IOException">The file cannot be created; the message names it.</exception>
    public ResultRecorder(string path)
    {
        try
        {
            _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot record to {path}: {e.Message}", e);
        }

        _json = new Utf8JsonWriter(_buffer);
    }

    public void Write(TrackingResult r)
    {
        _buffer.Clear();
        _json.Reset(_buffer);
        _json.WriteStartObject();
        _json.WriteNumber(s_frame, r.Sequence);
        _json.WriteNumber(s_time, Math.Round(r.Timestamp, 6));
        _json.WriteBoolean(s_valid, r.Valid);
        _json.WriteNumber(s_score, r.Score);
        _json.WriteStartArray(s_center);
        _json.WriteNumberValue(r.CenterX);
        _json.WriteNumberValue(r.CenterY);
        _json.WriteEndArray();
        Array(s_box, r.Box);
        Array(s_keypoints, r.Keypoints);
        Pose(s_raw, r.Raw);
        Pose(s_filtered, r.Filtered);
        _json.WriteEndObject();
        _json.Flush();
        _file.Write(_buffer.WrittenSpan);
        _file.WriteByte((byte)'\n');
    }

    public void Dispose()
    {
        _json.Dispose();
        _file.Dispose();
    }

    private void Array(JsonEncodedText name, float[] values)
    {
        _json.WriteStartArray(name);
        foreach (float v in values)
        {
            _json.WriteNumberValue(float.IsFinite(v) ? v : 0);
        }

        _json.WriteEndArray();
    }

    private void Pose(JsonEncodedText name, HeadPose p)
    {
        _json.WriteStartObject(name);
        _json.WriteNumber(s_x, Finite(p.X));
        _json.WriteNumber(s_y, Finite(p.Y));
        _json.WriteNumber(s_z, Finite(p.Z));
        _json.WriteNumber(s_yaw, Finite(p.Yaw));
        _json.WriteNumber(s_pitch, Finite(p.Pitch));
        _json.WriteNumber(s_roll, Finite(p.Roll));
        _json.WriteEndObject();
    }

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;
}
